import pytest
from django.core.exceptions import ValidationError

from customers.services import holder_create
from tests.conftest import COMPANY, PERSON

pytestmark = pytest.mark.django_db


def test_a_person_with_a_valid_codice_fiscale_is_saved_normalised(alice):
    holder = holder_create(customer=alice, **{**PERSON, "fiscal_code": " rssmra85t10a562s "})
    assert holder.fiscal_code == "RSSMRA85T10A562S"
    assert holder.display_name == "Alice Rossi"
    assert holder.tax_id == "RSSMRA85T10A562S"


def test_a_company_is_identified_by_its_partita_iva(alice):
    holder = holder_create(customer=alice, **COMPANY)
    assert holder.display_name == "Bianchi S.r.l."
    assert holder.tax_id == "00743110157"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**PERSON, "fiscal_code": "RSSMRA85T10A562X"}, "fiscal_code", "carattere di controllo"),
        ({**PERSON, "fiscal_code": "RSSMRA85T10"}, "fiscal_code", "16 caratteri"),
        ({**PERSON, "fiscal_code": ""}, "fiscal_code", "Indica il codice fiscale"),
        ({**PERSON, "first_name": ""}, "first_name", "Indica il nome"),
        ({**PERSON, "vat_number": "00743110157"}, "vat_number", "non ha partita IVA"),
        ({**COMPANY, "vat_number": "00743110158"}, "vat_number", "carattere di controllo"),
        ({**COMPANY, "vat_number": "0074311015"}, "vat_number", "11 cifre"),
        ({**COMPANY, "company_name": ""}, "company_name", "ragione sociale"),
        ({**COMPANY, "legal_representative": ""}, "legal_representative", "legale rappresentante"),
        ({**COMPANY, "fiscal_code": "00743110158"}, "fiscal_code", "carattere di controllo"),
        ({**PERSON, "postal_code": "0018"}, "postal_code", "5 cifre"),
        ({**PERSON, "province": "Roma"}, "province", "sigla"),
        ({**COMPANY, "sdi_code": "ABC"}, "sdi_code", "7 caratteri"),
        ({**PERSON, "email": "non-una-mail"}, "email", "email"),
    ],
)
def test_bad_holder_data_is_refused_with_a_message_on_the_field(alice, data, field, message):
    with pytest.raises(ValidationError) as error:
        holder_create(customer=alice, **data)
    assert field in error.value.message_dict
    assert any(message.lower() in m.lower() for m in error.value.message_dict[field])
