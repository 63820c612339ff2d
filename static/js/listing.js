// The listing's filter disclosure (a phone's filter column) stays open when htmx swaps the
// listing after a choice, so filters can be chosen one after the other. Without
// JavaScript every choice loads a page and the disclosure is opened again by hand.
(function () {
  var open = false;
  document.addEventListener("htmx:beforeSwap", function () {
    var box = document.getElementById("filters-box");
    open = Boolean(box && box.open);
  });
  document.addEventListener("htmx:afterSwap", function () {
    var box = document.getElementById("filters-box");
    if (box && open) {
      box.open = true;
    }
  });
})();
