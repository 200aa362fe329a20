// Live price and address availability on the mailbox configuration page.
// The page works without this script: "Aggiorna il prezzo" submits the form.
(function () {
  "use strict";
  const form = document.getElementById("configura");
  if (!form) return;
  const priceBox = document.getElementById("prezzo");
  const availability = document.getElementById("disponibilita");
  const eur = (value) =>
    "€ " + Number(value).toLocaleString("it-IT", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const escape = (text) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  function params() {
    const data = new FormData(form);
    const query = new URLSearchParams({ tier: form.dataset.tier, years: data.get("years") || "1" });
    form.querySelectorAll("input[data-addon]").forEach((input) => {
      const quantity = input.type === "checkbox" ? (input.checked ? 1 : 0) : parseInt(input.value, 10);
      if (quantity > 0) query.append("add", input.dataset.addon + "=" + quantity);
    });
    return query;
  }

  let priceTimer;
  function updatePrice() {
    clearTimeout(priceTimer);
    priceTimer = setTimeout(async () => {
      const response = await fetch(form.dataset.quoteUrl + "?" + params().toString());
      const body = await response.json();
      if (!response.ok) {
        priceBox.innerHTML = '<p class="error">' + escape(body.error) + "</p>";
        return;
      }
      const rows = body.lines
        .map((l) => "<tr><td>" + escape(l.description) + '</td><td class="num">' + eur(l.net) + "</td></tr>")
        .join("");
      priceBox.innerHTML =
        '<table class="lines"><tbody>' + rows + "</tbody><tfoot>" +
        '<tr><th scope="row">Imponibile</th><td class="num">' + eur(body.net) + "</td></tr>" +
        '<tr><th scope="row">IVA 22%</th><td class="num">' + eur(body.vat) + "</td></tr>" +
        '<tr class="total"><th scope="row">Totale</th><td class="num">' + eur(body.total) + "</td></tr>" +
        "</tfoot></table>";
    }, 200);
  }

  let addressTimer;
  function checkAddress() {
    clearTimeout(addressTimer);
    const local = form.elements.local_part.value.trim();
    if (!local) {
      availability.textContent = "";
      return;
    }
    addressTimer = setTimeout(async () => {
      const query = new URLSearchParams({ local_part: local, domain: form.elements.domain.value });
      if (form.dataset.item) query.append("item", form.dataset.item);
      const response = await fetch(form.dataset.addressUrl + "?" + query.toString());
      const body = await response.json();
      availability.textContent = body.message;
      availability.className = "availability " + (body.available ? "ok" : "ko");
    }, 350);
  }

  form.addEventListener("input", (event) => {
    if (event.target.name === "local_part") checkAddress();
    else updatePrice();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "domain") checkAddress();
    if (event.target.name !== "local_part") updatePrice();
  });
  // Values typed before this script ran, or restored by the browser on "back", are shown too.
  const changed = (input) =>
    input.type === "radio" || input.type === "checkbox"
      ? input.checked !== input.defaultChecked
      : input.tagName === "SELECT"
        ? Array.from(input.options).some((o) => o.selected !== o.defaultSelected)
        : input.value !== input.defaultValue;
  const fields = Array.from(form.elements).filter((el) => el.name && el.type !== "hidden");
  if (fields.some((el) => el.name !== "local_part" && changed(el))) updatePrice();
  if (form.elements.local_part.value.trim()) checkAddress();
})();
