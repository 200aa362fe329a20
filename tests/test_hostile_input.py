"""The inputs that once answered 500, each answered below 500 now."""

import json

import pytest
from django.test import Client

from tests.conftest import give_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(alice, make_mailbox, client):
    make_mailbox(address="studio@pec.it")
    client.force_login(alice.user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/area-clienti/?q=stu%00dio",
        "/area-clienti/?tipologia=pro%00",
        "/ordini/2026-%00001/",
        "/area-clienti/caselle/1/%00/",
        "/api/quote?tier=pro%00&years=1",
    ],
)
def test_a_nul_byte_in_a_query_string_or_a_path_is_a_400(logged_in, url):
    assert logged_in.get(url).status_code == 400


def test_a_nul_byte_in_a_form_or_a_json_body_is_a_400(logged_in):
    response = logged_in.post("/checkout/dati/", {"placement_key": "abc\x00"})
    assert response.status_code == 400
    response = logged_in.post(
        "/pagamenti/process/card/",
        data=json.dumps({"token": "a\x00b"}),
        content_type="application/json",
    )
    assert response.status_code == 400


def test_out_of_range_numbers_in_the_admin_usage_form_are_form_errors(make_mailbox, client):
    from django.contrib.auth.models import Group, User

    mailbox = make_mailbox(address="utilizzo@pec.it")
    staff = User.objects.create_user("andrea", "andrea@pecshop.example", "x", is_staff=True)
    staff.groups.add(Group.objects.get(name="Amministrazione"))
    give_second_factor(staff)
    client.force_login(staff)
    url = f"/admin/mailboxes/mailbox/operazioni/utilizzo/?ids={mailbox.pk}"
    for value in ("99999999999999999999", "2147483648", "-1", "1e309", "NaN"):
        response = client.post(
            url,
            {
                "ids": str(mailbox.pk),
                "mailbox_mb": value,
                "archive_mb": "0",
                "conservation_mb": "0",
                "reason": "prova",
            },
        )
        assert response.status_code == 200, value
        assert "errornote" in response.content.decode(), value


@pytest.mark.parametrize(
    "body",
    ["", "{}", "[]", '{"token": 5}', '{"token": "nessun-pagamento"}', "non è json"],
)
def test_the_payment_library_s_generic_process_url_answers_4xx_for_the_test_gateway(db, body):
    response = Client().post("/pagamenti/process/card/", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert 400 <= Client().get("/pagamenti/process/card/").status_code < 500
