"""The holder form at checkout and in the Area Clienti: the fields follow the kind chosen."""

import pytest
from django.template.loader import render_to_string

from customers.forms import HolderForm

pytestmark = pytest.mark.django_db

PERSON = {
    "kind": "person",
    "first_name": "Mario",
    "last_name": "Rossi",
    "fiscal_code": "RSSMRA85T10A562S",
    "street": "Via Roma 1",
    "postal_code": "00184",
    "city": "Roma",
    "province": "RM",
    "email": "mario@example.it",
}


def test_a_person_with_leftover_company_fields_is_saved_without_them(alice):
    data = {**PERSON, "company_name": "Resto S.r.l.", "vat_number": "00743110158"}
    form = HolderForm(data, customer=alice)
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["company_name"], form.cleaned_data["vat_number"]) == ("", "")


def test_a_company_ignores_the_person_names_posted_with_it(alice):
    data = {
        **PERSON,
        "kind": "company",
        "company_name": "Bianchi S.r.l.",
        "vat_number": "00743110157",
        "fiscal_code": "00743110157",
        "legal_representative": "Laura Bianchi",
    }
    form = HolderForm(data, customer=alice)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["first_name"] == ""


def test_an_empty_codice_fiscale_gives_one_message(alice):
    form = HolderForm({**PERSON, "fiscal_code": ""}, customer=alice)
    assert not form.is_valid()
    assert form.errors["fiscal_code"] == ["Indica il codice fiscale."]


def test_nome_and_cognome_are_marked_required_and_each_kind_has_its_own_group(alice):
    html = render_to_string("includes/holder_fields.html", {"form": HolderForm(customer=alice)})
    for field in ("first_name", "last_name", "fiscal_code", "company_name", "vat_number"):
        label = html.split(f'for="id_{field}"', 1)[1].split("</label>", 1)[0]
        assert 'class="req"' in label, field
    person = html.split('class="grid-2 kind-person"', 1)[1].split("</div>\n", 1)[0]
    assert 'id="id_first_name"' in person and 'id="id_company_name"' not in person
    company = html.split('class="kind-company"', 1)[1]
    assert 'id="id_company_name"' in company.split("id_fiscal_code")[0]
