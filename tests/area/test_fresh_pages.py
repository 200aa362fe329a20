"""The dashboard and the mailbox page are rendered for every request, so they show every
change at once, whichever path made it (services, set-based jobs in plain SQL, a bulk
update, the cart, the account), and nothing rendered for one browser reaches another."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billing.services.cart import cart_add_item, cart_get
from billing.services.items import ItemSpec
from mailboxes.lifecycle import apply_term_changes, expire_mailboxes
from mailboxes.models import Mailbox
from mailboxes.services import (
    addon_attach,
    event_record,
    mailbox_renew,
    mailbox_set_auto_renew,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 25)
EXPIRY = date(2027, 5, 25)


def browser(customer) -> Client:
    """A logged-in browser that has its CSRF cookie (from a first page)."""
    client = Client()
    client.force_login(customer.user)
    client.get("/area-clienti/")
    assert client.cookies.get("csrftoken")
    return client


def mailbox_reads(client, url) -> tuple[str, int]:
    """The page's HTML and how many queries read the mailbox table to make it."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    table = Mailbox._meta.db_table
    return response.content.decode(), sum(table in q["sql"] for q in queries)


def page_url(mailbox) -> str:
    return f"/area-clienti/caselle/{mailbox.pk}/"


def test_the_pages_read_the_mailboxes_on_every_request(alice, studio):
    client = browser(alice)
    for url in ("/area-clienti/", page_url(studio)):
        _, reads = mailbox_reads(client, url)
        _, reads_again = mailbox_reads(client, url)
        assert reads > 0 and reads_again == reads


def test_each_kind_of_change_is_shown_at_once(alice, studio, addons, tiers):
    client = browser(alice)
    url = page_url(studio)
    assert "non attivo" in mailbox_reads(client, url)[0]

    # A service that saves the mailbox.
    mailbox_set_auto_renew(mailbox=studio, enabled=True, actor=alice.user)
    html, _ = mailbox_reads(client, url)
    assert "Rinnovo automatico</dt><dd>attivo" in html

    # A new add-on (the mailbox row itself is not saved).
    mailbox_reads(client, url)
    addon_attach(mailbox=studio, addon=addons["CONSERVAZIONE"], quantity=5, actor=alice.user)
    html, _ = mailbox_reads(client, url)
    assert re.search(r"Conservazione PEC</th><td[^>]*>[^<]*</td><td[^>]*>5 GB</td>", html)

    # An event alone.
    event_record(mailbox=studio, kind="settings", reason="Nota di prova del supporto")
    assert "Nota di prova del supporto" in mailbox_reads(client, url)[0]

    # A holder's name.
    holder = alice.own_holder
    holder.first_name = "Alicia"
    holder.save()
    assert "Alicia" in mailbox_reads(client, url)[0]


def test_changes_made_by_the_set_based_jobs_in_plain_sql_are_shown(alice, studio, tiers, addons):
    addon_attach(mailbox=studio, addon=addons["CONSERVAZIONE"], quantity=5)
    client = browser(alice)
    assert "status-active" in mailbox_reads(client, "/area-clienti/")[0]

    # An early renewal to Premium with the add-on lowered, applied by the nightly job.
    mailbox_renew(
        mailbox=studio,
        years=1,
        today=TODAY,
        to_tier=tiers["premium"],
        keep={addons["CONSERVAZIONE"]: 2},
    )
    mailbox_reads(client, page_url(studio))
    assert apply_term_changes(today=EXPIRY) == {"mailboxes": 1}
    html, _ = mailbox_reads(client, page_url(studio))
    assert "<dd>Premium</dd>" in html

    mailbox_reads(client, "/area-clienti/")
    expire_mailboxes(today=date(2028, 5, 25))
    html, _ = mailbox_reads(client, "/area-clienti/")
    assert "status-expired" in html


def test_a_bulk_update_and_the_cascade_task_after_it_are_shown(alice, studio, addons):
    from mailboxes.lifecycle import mailbox_cascade
    from mailboxes.models import MailboxStatus

    addon_attach(mailbox=studio, addon=addons["CONSERVAZIONE"], quantity=5)
    client = browser(alice)
    assert "status-active" in mailbox_reads(client, page_url(studio))[0]
    # A change that goes through no service (a bulk update by staff) is shown at once...
    Mailbox.objects.filter(pk=studio.pk).update(status=MailboxStatus.CANCELLED)
    html = mailbox_reads(client, page_url(studio))[0]
    assert "status-cancelled" in html and "Conservazione PEC</th><td" in html
    # ...and so is the cascade, in plain SQL, that brings the add-on in line.
    assert mailbox_cascade(mailbox_id=studio.pk) == 1
    html = mailbox_reads(client, page_url(studio))[0]
    assert "status-cancelled" in html
    assert not re.search(r"Conservazione PEC</th><td[^>]*>[^<]*</td><td[^>]*>5 GB</td>", html)


def test_an_order_and_the_cart_in_the_header_are_shown(alice, studio, order_for):
    client = browser(alice)
    url = page_url(studio)
    mailbox_reads(client, url)
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, studio.pk))
    assert order.number in mailbox_reads(client, url)[0]

    assert 'aria-label="0 articoli"' in mailbox_reads(client, "/area-clienti/")[0]
    cart = cart_get(customer=alice, create=True)
    cart_add_item(
        cart=cart,
        spec=ItemSpec(
            "new_mailbox",
            {"tier": "standard", "local_part": "nuova", "domain": "pec.it", "years": 1},
        ),
        today=TODAY,
    )
    assert 'aria-label="1 articoli"' in mailbox_reads(client, "/area-clienti/")[0]


def test_the_account_e_mail_in_the_header_follows_the_user(alice, studio):
    client = browser(alice)
    mailbox_reads(client, "/area-clienti/")
    alice.user.email = "alice.nuova@example.it"
    alice.user.save()
    assert "alice.nuova@example.it" in mailbox_reads(client, "/area-clienti/")[0]


def test_another_customer_never_gets_the_owners_page(alice, bob, studio):
    owner = browser(alice)
    mailbox_reads(owner, page_url(studio))
    stranger = browser(bob)
    # Same CSRF cookie as the owner's browser, to rule out the key's other parts.
    stranger.cookies["csrftoken"] = owner.cookies["csrftoken"].value
    assert stranger.get(page_url(studio)).status_code == 404
    assert "studio@pec.it" not in stranger.get("/area-clienti/").content.decode()


def test_each_browser_gets_forms_whose_token_fits_its_own_cookie(alice, studio):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for client in (first, second):
        client.force_login(alice.user)
        client.get("/area-clienti/")
    url = page_url(studio)
    first.get(url)
    html = second.get(url).content.decode()
    form = re.search(
        r'action="([^"]+rinnovo-automatico/)".*?csrfmiddlewaretoken" value="([^"]+)"', html, re.S
    )
    response = second.post(form[1], {"csrfmiddlewaretoken": form[2], "enabled": "1"})
    assert response.status_code == 302
    studio.refresh_from_db()
    assert studio.auto_renew


def test_a_message_is_shown_once(alice, studio):
    client = browser(alice)
    url = page_url(studio)
    mailbox_reads(client, url)
    response = client.post(url + "rinnovo-automatico/", {"enabled": "1"}, follow=True)
    text = response.content.decode()
    assert 'class="messages"' in text
    again = client.get(url).content.decode()
    assert 'class="messages"' not in again


def test_a_new_password_ends_the_other_sessions_at_once(alice, studio):
    client = browser(alice)
    assert client.get("/area-clienti/").status_code == 200
    alice.user.set_password("Nuova-Password-2026")
    alice.user.save()
    assert client.get("/area-clienti/").status_code == 302


def test_a_deactivated_account_is_logged_out_at_once(alice, studio):
    client = browser(alice)
    alice.user.is_active = False
    alice.user.save()
    assert client.get("/area-clienti/").status_code == 302
