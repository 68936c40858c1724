"""Bad input at the edge: control characters, file parts, invisible characters."""

import io

import pytest
import sqlalchemy as sa

from campaign.edge import accepts_files
from campaign.extensions import csrf, db
from campaign.mailing.models import Subscriber
from tests.helpers import SLUG, csrf_token, sign, submit
from tests.test_petition import signatures

NOT_FOUND = "We couldn&#39;t find that page."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/petitions/%00"),
        ("GET", "/unsubscribe/%00"),
        ("POST", "/unsubscribe/%00"),
        ("GET", "/preferences/%00"),
        ("GET", f"/petitions/{SLUG}/confirm/a%00b"),
        ("GET", "/join/confirm/%1b"),
        ("GET", "/donate/manage/%7f"),
        ("GET", "/organiser/petitions/%00"),
    ],
)
def test_control_characters_in_a_path_get_the_not_found_page(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 404
    assert NOT_FOUND in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["lang=%00", "source=%1b", "next=%7f", "a%00=1"])
def test_control_characters_in_a_query_string_are_refused(client, query):
    response = client.get(f"/donate?{query}")
    assert response.status_code == 400
    assert "characters it cannot hold" in response.get_data(as_text=True)


def test_a_nul_in_a_sign_in_email_is_refused_with_a_message(client):
    token = csrf_token(client, "/organiser/login")
    response = client.post(
        "/organiser/login",
        data={"csrf_token": token, "email": "a\x00b@x", "password": "x" * 12},
    )
    assert response.status_code == 400
    assert "invisible control characters" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["name", "email", "comment", "country"])
def test_a_control_character_in_any_sign_field_stores_nothing(app, client, field):
    # The sign form checks its own fields, so the signer sees the message
    # beside what they typed (test_petition checks the wording).
    values = {
        "name": "Ada",
        "email": "ada@example.org",
        "comment": "Hi",
        "country": "GB",
    }
    values[field] = values[field][:1] + "\x00\x1b" + values[field][1:]
    response = sign(client, **values)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert signatures(app) == []


def test_a_control_character_in_a_field_name_is_refused_even_there(app, client):
    response = sign(client, **{"name\x00": "x"})
    assert response.status_code == 400
    assert "invisible control characters" in response.get_data(as_text=True)
    assert signatures(app) == []


def test_line_breaks_and_tabs_in_a_comment_are_kept(app, client):
    response = sign(client, comment="First line\r\nsecond\tline", public="y")
    assert response.status_code == 303
    [signature] = signatures(app)
    assert signature.comment == "First line\r\nsecond\tline"


def test_a_control_character_in_a_header_is_refused(client):
    response = client.get("/", headers={"Accept-Language": "fa\x00"})
    assert response.status_code == 400
    assert client.get("/", headers={"Accept-Language": "fa-AF,\tfa"}).status_code == 200


def text_and_file(client, **fields) -> dict:
    """A multipart body: a valid CSRF token, text fields and one file part."""
    return {
        "csrf_token": csrf_token(client, "/join"),
        **fields,
        "name": (io.BytesIO(b"GIF89a"), "photo.gif"),
    }


@pytest.mark.parametrize(
    "path", [f"/petitions/{SLUG}/sign", "/join", "/organiser/login", "/donate/checkout"]
)
def test_a_file_where_text_is_expected_is_refused(app, client, path):
    data = text_and_file(client, email="ada@example.org", country="GB", password="x")
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "This form takes text only, not files." in response.get_data(as_text=True)
    assert signatures(app) == []


def test_a_view_that_opts_in_receives_files(app):
    @csrf.exempt
    @accepts_files("image")
    def upload():
        from flask import request

        return {"names": [part.filename for part in request.files.values()]}

    app.add_url_rule("/upload-test", view_func=upload, methods=["POST"])
    client = app.test_client()
    photo = {"image": (io.BytesIO(b"GIF89a"), "photo.gif")}
    assert client.post("/upload-test", data=photo).get_json() == {
        "names": ["photo.gif"]
    }
    renamed = {"image": (io.BytesIO(b"GIF89a"), "photo\x00.gif")}
    assert client.post("/upload-test", data=renamed).status_code == 400
    # A file in a field named for text is refused, never handed to the view.
    elsewhere = {"caption": (io.BytesIO(b"GIF89a"), "photo.gif")}
    assert client.post("/upload-test", data=elsewhere).status_code == 400


# A Dari signer: ZWNJ (U+200C) inside "شاه‌محمد" and "نیک‌نام" keeps two letters
# apart, as Dari spells them; it must survive. Beside a space it does nothing.
DARI_NAME = "شاه\u200cمحمد نیک\u200cنام"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("\u202eAda\u2066 Lovelace\u2069\u200b", "Ada Lovelace"),
        ("\ufeffGrace\u200d Hopper\u2060", "Grace Hopper"),
        (DARI_NAME, DARI_NAME),
        ("\u200c" + DARI_NAME + "\u200c\u200c", DARI_NAME),
        ("شاه\u200c\u200cمحمد", "شاه\u200cمحمد"),
    ],
)
def test_names_are_stored_without_invisible_characters(app, client, typed, stored):
    assert sign(client, name=typed).status_code == 303
    [signature] = signatures(app)
    assert signature.name == stored


def test_comments_are_stored_without_bidi_overrides(app, client):
    comment = "\u202eI agree\u202c. من هم می\u200cخواهم\u200b"
    assert sign(client, comment=comment, public="y").status_code == 303
    [signature] = signatures(app)
    assert signature.comment == "I agree. من هم می\u200cخواهم"


def test_mailing_list_names_are_stored_without_invisible_characters(app, client):
    response = submit(
        client, "/join", email="grace@example.org", name="\u202egrace\u200b"
    )
    assert response.status_code == 303
    with app.app_context():
        name = db.session.scalar(sa.select(Subscriber.name))
    assert name == "grace"
