"""CSV exports of mailboxes and invoices, from the Area Clienti and the API."""

import csv
import io
from datetime import date

from billing.services.items import ItemSpec


def rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # UTF-8 with a BOM, for spreadsheets
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_mailbox_csv_has_the_dashboards_filters_and_italian_numbers(
    client, alice, bob, make_mailbox
):
    make_mailbox("presto@pec.it", "standard", activated_on=date(2025, 12, 10))
    make_mailbox("tardi@pec.it", "pro", activated_on=date(2026, 10, 1), extras={"CONSERVAZIONE": 5})
    make_mailbox("bob@pec.it", customer=bob)
    client.force_login(alice.user)
    response = client.get("/area-clienti/esporta/", {"cosa": "caselle"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = rows(response.content)
    assert table[0][:3] == ["Indirizzo", "Titolare", "Codice fiscale / P.IVA"]
    assert [r[0] for r in table[1:]] == ["presto@pec.it", "tardi@pec.it"]
    tardi = table[2]
    assert tardi[6] == "01/10/2027"  # scadenza
    assert tardi[8] == "44,90"  # 24.90 + 5 x 4.00
    assert "Conservazione PEC 5 GB" in tardi[9]
    expiring = rows(
        client.get("/area-clienti/esporta/", {"cosa": "caselle", "scadenza": "30"}).content
    )
    assert [r[0] for r in expiring[1:]] == ["presto@pec.it"]


def test_the_invoice_csv_is_per_period(client, alice, make_mailbox, order_for, pay):
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    pay(order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk)))
    order = order_for(ItemSpec("renewal", {"years": 5}, mailbox.pk))
    pay(order, paid_on=date(2026, 12, 3))
    client.force_login(alice.user)
    november = rows(
        client.get(
            "/area-clienti/esporta/", {"cosa": "fatture", "dal": "2026-11-01", "al": "2026-11-30"}
        ).content
    )
    assert len(november) == 2
    assert november[1][2:3] == ["25/11/2026"]
    assert november[1][6:] == ["10,00", "22,00", "2,20", "12,20"]
    every = rows(client.get("/area-clienti/esporta/", {"cosa": "fatture"}).content)
    # 5 x (24.90 + 5 x 4.00) = 224.50 + 49.39
    assert [r[-1] for r in every[1:]] == ["12,20", "273,89"]
    wrong = client.get(
        "/area-clienti/esporta/", {"cosa": "fatture", "dal": "2026-12-01", "al": "2026-11-01"}
    )
    assert "precedere" in wrong.content.decode()


def test_the_same_exports_through_the_api(
    alice, bob, make_token, api_client, make_mailbox, order_for, pay
):
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    make_mailbox("bob@pec.it", customer=bob)
    pay(order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk)))
    _, raw = make_token(alice, "read")
    client = api_client(raw)
    boxes = client.get("/exports/mailboxes.csv", {"tier": "pro"})
    assert boxes.status_code == 200 and [r[0] for r in rows(boxes.content)[1:]] == ["studio@pec.it"]
    invoices = client.get("/exports/invoices.csv", {"from": "2026-11-01", "to": "2026-11-30"})
    assert rows(invoices.content)[1][-1] == "12,20"
    bad = client.get("/exports/invoices.csv", {"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 400 and bad.json()["field"] == "from"
