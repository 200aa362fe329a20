"""`manage.py quote` and `GET /api/quote`: the same answers, and clear refusals."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

SEED_PURCHASE = ["--tier", "pro", "--expires", "2027-05-25", "--today", "2026-11-25"]


def run_quote(*args: str) -> tuple[int, dict | None, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("quote", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), None, err.getvalue()
    return 0, json.loads(out.getvalue()), err.getvalue()


def test_the_command_prices_the_seed_mid_year_purchase():
    code, answer, _ = run_quote(*SEED_PURCHASE, "--add", "CONSERVAZIONE=5")
    assert code == 0
    assert answer["months"] == 6
    assert answer["lines"] == [
        {
            "code": "CONSERVAZIONE",
            "description": answer["lines"][0]["description"],
            "quantity": 5,
            "months": 6,
            "unit_price": "4.00",
            "net": "10.00",
        }
    ]
    assert (answer["net"], answer["vat"], answer["total"]) == ("10.00", "2.20", "12.20")


def test_the_command_prices_the_seed_renewal_with_five_gb_added():
    code, answer, _ = run_quote(*SEED_PURCHASE, "--add", "CONSERVAZIONE=5", "--renew-years", "1")
    assert code == 0
    assert [(line["code"], line["months"], line["net"]) for line in answer["lines"]] == [
        ("pro", 12, "24.90"),
        ("CONSERVAZIONE", 6, "10.00"),
        ("CONSERVAZIONE", 12, "20.00"),
    ]
    assert (answer["net"], answer["vat"], answer["total"]) == ("54.90", "12.08", "66.98")


def test_the_command_prices_an_upgrade_with_the_sms_credit():
    code, answer, _ = run_quote(
        "--tier",
        "standard",
        "--expires",
        "2027-05-25",
        "--today",
        "2026-11-25",
        "--has",
        "SMS=1",
        "--to-tier",
        "pro",
    )
    assert code == 0
    assert [(line["code"], line["net"]) for line in answer["lines"]] == [
        ("pro", "7.50"),
        ("SMS", "-2.00"),
    ]
    assert answer["net"] == "5.50"


def test_the_command_prices_a_new_mailbox_for_two_years():
    code, answer, _ = run_quote("--tier", "pro", "--years", "2", "--add", "CONSERVAZIONE=5")
    assert code == 0
    assert answer["net"] == "89.80"  # 2 x 24.90 + 2 x 5 x 4.00
    assert answer["total"] == "109.56"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tier", "gold", "--expires", "2027-05-25"], "Tipologia sconosciuta"),
        ([*SEED_PURCHASE, "--add", "GIGA=1"], "sconosciuto"),
        (["--tier", "pro", "--expires", "25/05/2027", "--add", "SMS=1"], "data non valida"),
        ([*SEED_PURCHASE[:4], "--today", "2026-13-01", "--add", "SPAZIO=1"], "data non valida"),
        ([*SEED_PURCHASE, "--add", "SPAZIO=-3"], "positivo"),
        ([*SEED_PURCHASE, "--add", "SPAZIO=0"], "positivo"),
        ([*SEED_PURCHASE, "--add", "SPAZIO=9999999999"], "fuori misura"),
        ([*SEED_PURCHASE, "--add", "SPAZIO=101"], "al massimo"),
        ([*SEED_PURCHASE, "--add", "SPAZIO=abc"], "CODICE=QUANTIT"),
        ([*SEED_PURCHASE, "--add", "SMS=1"], "lo include già"),
        (
            ["--tier", "standard", "--expires", "2027-05-25", "--add", "ARCHIVIO=1"],
            "non è disponibile",
        ),
        ([*SEED_PURCHASE, "--add", "MULTIUTENTE=1"], "include già 1 utente"),
        ([*SEED_PURCHASE, "--renew-years", "6"], "da 1 a 5 anni"),
        ([*SEED_PURCHASE, "--renew-years", "0"], "da 1 a 5 anni"),
        ([*SEED_PURCHASE, "--to-tier", "standard"], "solo al rinnovo"),
        (
            [
                "--tier",
                "pro",
                "--expires",
                "2026-11-25",
                "--today",
                "2026-11-25",
                "--add",
                "SPAZIO=1",
            ],
            "si può solo rinnovare",
        ),
        (
            [
                "--tier",
                "pro",
                "--expires",
                "2026-08-01",
                "--today",
                "2026-11-25",
                "--renew-years",
                "1",
            ],
            "non si può più rinnovare",
        ),
        (["--tier", "pro"], "Indica expires"),
        ([*SEED_PURCHASE], "almeno un servizio"),
    ],
)
def test_the_command_refuses_bad_input_with_one_clear_line(args, expected):
    code, answer, err = run_quote(*args)
    assert code != 0
    assert answer is None
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]
    assert "Traceback" not in err


def test_the_api_answers_the_same_json_as_the_command(client):
    _, from_command, _ = run_quote(*SEED_PURCHASE, "--add", "CONSERVAZIONE=5", "--renew-years", "1")
    response = client.get(
        "/api/quote",
        {
            "tier": "pro",
            "expires": "2027-05-25",
            "today": "2026-11-25",
            "add": "CONSERVAZIONE=5",
            "renew_years": "1",
        },
    )
    assert response.status_code == 200
    assert response.json() == from_command


def test_the_api_accepts_repeated_items(client):
    response = client.get(
        "/api/quote?tier=premium&expires=2027-05-25&today=2026-11-25"
        "&has=MULTIUTENTE=2&add=MULTIUTENTE=3&add=ARCHIVIO=2"
    )
    assert response.status_code == 200
    body = response.json()
    assert [line["code"] for line in body["lines"]] == ["ARCHIVIO", "MULTIUTENTE"]
    assert body["net"] == "12.00"  # 2 GB x 3.00 x 6/12 + 3 users x 6.00 x 6/12


@pytest.mark.parametrize(
    "query",
    [
        "",
        "tier=pro",
        "tier=pro&expires=2027-02-30&add=SPAZIO=1",
        "tier=pro&expires=2027-05-25&today=2026-11-25&add=SPAZIO=1&add=SPAZIO=2",
        "tier=pro&expires=2027-05-25&today=2026-11-25&add=SPAZIO%3D1e9",
        "tier=pro&expires=2027-05-25&today=2026-11-25&renew_years=ten",
        "tier=pro&expires=2027-05-25&years=2",
        "tier=pro&expires=2027-05-25&expires=2027-06-25&add=SPAZIO=1",
        "tier=%00&expires=2027-05-25&add=SPAZIO=1",
    ],
)
def test_the_api_refuses_bad_input_with_a_400_and_a_message(client, query):
    response = client.get(f"/api/quote?{query}")
    assert response.status_code == 400
    assert response.json()["error"]


def test_the_api_only_answers_get(client):
    assert client.post("/api/quote", {"tier": "pro"}).status_code == 405
