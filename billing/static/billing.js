/* Billing page: save a card with Stripe.js (Elements + confirmCardSetup), then hand the
   confirmed PaymentMethod id to our server, which attaches it to the organisation's Customer
   and makes it the default. Against the local Stripe server the page loads its stand-in for
   Stripe.js, which draws plain inputs instead of Stripe's iframe. */
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) { return; }
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("card-submit");
  var csrf = document.querySelector("meta[name=csrf-token]").getAttribute("content");

  function showError(message) {
    errors.textContent = message || "The card could not be saved.";
    errors.hidden = false;
    button.disabled = false;
    button.textContent = "Save card";
  }

  if (typeof window.Stripe !== "function" || !window.fetch) {
    showError("The card form could not load. Check your connection and reload the page.");
    button.disabled = true;
    return;
  }

  var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
  var card = stripe.elements().create("card", { hidePostalCode: false });
  card.mount("#card-element");

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw new Error((data.error && data.error.message) || "The server refused the card.");
        }
        return data;
      });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errors.hidden = true;
    button.disabled = true;
    button.textContent = "Saving…";
    postJson(form.getAttribute("data-setup-url"))
      .then(function (setup) {
        return stripe.confirmCardSetup(setup.client_secret, { payment_method: { card: card } });
      })
      .then(function (result) {
        if (result.error) {
          throw new Error(result.error.message || "The card was not accepted.");
        }
        var pm = result.setupIntent.payment_method;
        return postJson(form.getAttribute("data-save-url"),
                        { payment_method: typeof pm === "string" ? pm : pm.id });
      })
      .then(function () { window.location.reload(); })
      .catch(function (error) { showError(error.message); });
  });
})();
