// Copy buttons of the customer panel (progressive enhancement: the text stays selectable).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) { return; }
  var source = document.getElementById(button.getAttribute("data-copy"));
  var text = source ? source.textContent.trim() : "";
  var status = document.getElementById(button.getAttribute("data-status"));
  function done(ok) {
    if (status) { status.textContent = ok ? button.getAttribute("data-done") : ""; }
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
  } else {
    var area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area); done(ok);
  }
});
