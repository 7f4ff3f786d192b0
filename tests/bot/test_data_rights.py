"""People in control of their data: contact consent, /settings, /mydata and /delete."""

import json
import sqlite3


def rows(database, sql):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def join(user):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")


async def finish(user):
    await join(user)
    await user.press("No")
    await user.send("Too far away")
    await user.send("Closer clinics")
    await user.send("/skip")


async def test_rights_contact_is_asked_once_at_the_end(user, database):
    await finish(user)
    assert user.buttons() == ["Yes, message me", "No, thank you"]
    assert rows(database, "SELECT contact_ok, contact_changed_at FROM participants") == [(0, None)]
    await user.press("Yes, message me")
    assert user.messages()[-2].text.startswith("Thank you. We'll message you")
    [(ok, changed)] = rows(database, "SELECT contact_ok, contact_changed_at FROM participants")
    assert ok == 1
    assert changed is not None
    # Then, once, where they live (optional), for the right support lines.
    assert user.last_text().startswith("Which part of the UK do you live in?")
    await user.press("I'd rather not say")
    assert rows(database, "SELECT nation FROM participants") == [("none",)]
    assert "116 123" in user.last_text()
    await user.send("/settings")
    await user.press("Don't message me about them")
    assert not user.last_text().startswith("Which part of the UK")
    await user.send("/settings")
    assert "Where you live (to show the right support lines): not said" in user.last_text()


async def test_rights_settings_change_contact_and_nation(user, database):
    await join(user)
    await user.send("/settings")
    text = user.last_text()
    assert "Messages about future chances to have your say: no" in text
    assert "Where you live (to show the right support lines): not said" in text
    await user.press("Message me about future chances")
    assert rows(database, "SELECT contact_ok FROM participants") == [(1,)]
    await user.send("/settings")
    await user.press("Choose where I live")
    assert user.buttons() == [
        "England",
        "Wales",
        "Scotland",
        "Northern Ireland",
        "I'd rather not say",
    ]
    await user.press("Scotland")
    assert "Breathing Space" in user.last_text()
    assert "Lifeline" not in user.last_text().replace("Lifeline on", "")
    assert rows(database, "SELECT nation FROM participants") == [("scotland",)]
    await user.send("/settings")
    assert "not said" not in user.last_text()
    assert "Scotland" in user.last_text()


async def test_rights_my_data_sends_everything_readable_and_as_json(user, fake, database):
    await finish(user)
    await user.send("/mydata")
    files = [m for m in user.messages() if m.document is not None]
    assert [f.document["file_name"] for f in files] == [
        "heard-my-data-2026-03-02.txt",
        "heard-my-data-2026-03-02.json",
    ]
    text = files[0].document["content"].decode()
    data = json.loads(files[1].document["content"])
    [(code,)] = rows(database, "SELECT code FROM participants")
    assert f"Your code: {code}." in text
    assert 'You agreed to take part in "Sample consultation"' in text
    assert "  Question: Why not?\n  Your answer: Too far away" in text
    assert "  Question: Have you used the service?\n  Your answer: No" in text
    assert data["code"] == code
    assert data["conversations"][0]["status"] == "completed"
    answers = {a["question_id"]: a["answer"] for a in data["conversations"][0]["answers"]}
    assert answers == {
        "used": False,
        "why_not": "Too far away",
        "change": "Closer clinics",
        "age": None,
    }
    for content in (files[0].document["content"], files[1].document["content"]):
        assert str(user.user_id).encode() not in content
    assert "To delete it, send /delete." in user.last_text()


async def test_rights_delete_asks_first_then_forgets_the_person(user, database):
    await finish(user)
    await user.send("/delete")
    assert "It can't take back figures already reported" in user.last_text()
    await user.press("No, keep it")
    assert user.last_text() == "OK. Nothing was deleted."
    assert len(rows(database, "SELECT * FROM participants")) == 1

    await user.send("/delete")
    await user.press("Yes, delete my data")
    assert user.last_text().startswith("Your data has been deleted.")
    for table in ("participants", "identities", "consents", "runs", "answers"):
        assert rows(database, f"SELECT * FROM {table}") == [], table
    [(actor, action, detail)] = rows(database, "SELECT actor, action, detail FROM audit_log")
    assert (actor, action) == ("a participant", "deleted their data")
    assert detail == "runs 1, answers 4, consents 1"

    await user.send("/start")
    assert user.last_text() == "Before we start: are you 18 or older?"


async def test_rights_strangers_have_no_data(user):
    for command in ("/mydata", "/delete", "/settings"):
        await user.send(command)
        assert user.last_text().startswith("Heard doesn't keep anything about you.")


async def test_rights_stale_delete_button_after_deletion_changes_nothing(user, database):
    await join(user)
    await user.send("/delete")
    question = user.messages()[-1]
    await user.press("Yes, delete my data")
    # An old client can still send the button's data after its buttons were removed.
    await user.press_data(question.message_id, "v1|s|delete|y")
    assert user.last_text().startswith("Heard doesn't keep anything about you.")


async def test_rights_my_data_at_the_check_in_includes_what_safeguarding_keeps(
    make_user, fake, heard, database
):
    # The people at risk are exactly the ones whose data must be complete.
    update_id = fake.send_text(8001, "hi", chat_id=-100777, chat_type="group")
    await heard.settle(update_id)
    user = make_user(2001)
    await join(user)
    await user.press("No")
    await user.send("I want to die")
    await user.send("I'm at home")
    await user.send("/mydata")
    files = [m for m in user.messages() if m.document is not None]
    text = files[0].document["content"].decode()
    data = json.loads(files[1].document["content"])

    assert data["conversations"][0]["status"] == "checking"
    assert "waiting at a safety check-in" in text
    [flag] = data["safeguarding_flags"]
    assert flag["your_words"] == "I want to die"
    assert flag["matched"]
    assert flag["outcome"] is None
    assert "you wrote: I want to die" in text
    assert "What happened: waiting for a person to read it" in text
    assert [m["text"] for m in data["messages_with_staff"]] == ["I'm at home"]
    assert "you: I'm at home" in text
    assert str(user.user_id).encode() not in files[1].document["content"]
