"""SDI receipts as the SDI writes them, built from MessaggiTypes_v1.1.xsd and checked
against it before a test uses them (a receipt the schema refuses would test nothing)."""

from billing.sdi.receipts import messages_schema

NS = "http://www.fatturapa.gov.it/sdi/messaggi/v1.0"
DS = "http://www.w3.org/2000/09/xmldsig#"

# The structure the xmldsig schema requires; the SDI's own signature is not verified here.
SIGNATURE = f"""<ds:Signature xmlns:ds="{DS}" Id="sdi-signature">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
    <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
    <ds:Reference URI="">
      <ds:Transforms>
        <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
      </ds:Transforms>
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <ds:DigestValue>bm90IGEgcmVhbCBkaWdlc3Q=</ds:DigestValue>
    </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue>bm90IGEgcmVhbCBzaWduYXR1cmU=</ds:SignatureValue>
</ds:Signature>"""


def _wrap(root: str, body: str) -> bytes:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<types:{root} xmlns:types="{NS}" versione="1.0">\n{body}\n{SIGNATURE}\n</types:{root}>\n'
    )
    content = xml.encode("utf-8")
    errors = list(messages_schema().iter_errors(content.decode()))
    assert not errors, errors
    return content


def rc(file_name: str, sdi_id: str = "111222333", when: str = "2026-11-25T10:05:00") -> bytes:
    return _wrap(
        "RicevutaConsegna",
        f"""<IdentificativoSdI>{sdi_id}</IdentificativoSdI>
<NomeFile>{file_name}</NomeFile>
<DataOraRicezione>2026-11-25T10:00:00</DataOraRicezione>
<DataOraConsegna>{when}</DataOraConsegna>
<Destinatario><Codice>M5UXCR</Codice><Descrizione>Bianchi S.r.l.</Descrizione></Destinatario>
<MessageId>123456</MessageId>""",
    )


def mc(file_name: str, sdi_id: str = "111222334", when: str = "2026-11-25T10:00:00") -> bytes:
    return _wrap(
        "NotificaMancataConsegna",
        f"""<IdentificativoSdI>{sdi_id}</IdentificativoSdI>
<NomeFile>{file_name}</NomeFile>
<DataOraRicezione>{when}</DataOraRicezione>
<Descrizione>Impossibile recapitare il file al destinatario</Descrizione>
<MessageId>123457</MessageId>""",
    )


def ns(
    file_name: str,
    sdi_id: str = "111222335",
    when: str = "2026-11-25T10:00:00",
    errors=(("00305", "1.4.1.1.2 IdCodice non valido : 00743110158"),),
) -> bytes:
    listed = "".join(
        f"<Errore><Codice>{code}</Codice><Descrizione>{text}</Descrizione></Errore>"
        for code, text in errors
    )
    return _wrap(
        "NotificaScarto",
        f"""<IdentificativoSdI>{sdi_id}</IdentificativoSdI>
<NomeFile>{file_name}</NomeFile>
<DataOraRicezione>{when}</DataOraRicezione>
<ListaErrori>{listed}</ListaErrori>
<MessageId>123458</MessageId>""",
    )


def receipt_name(file_name: str, kind: str, n: int = 1) -> str:
    return f"{file_name.removesuffix('.xml')}_{kind}_{n:03d}.xml"
