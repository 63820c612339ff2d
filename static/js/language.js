// The language switch: where JavaScript runs, choosing a language switches at once and
// the "Go" button is hidden; without JavaScript the button submits the form as before.
(function () {
  function ready() {
    var form = document.querySelector("form.lang");
    if (!form) {
      return;
    }
    var select = form.querySelector("select");
    var button = form.querySelector("button");
    if (button) {
      button.hidden = true;
    }
    select.addEventListener("change", function () {
      form.submit();
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
