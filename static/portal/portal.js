/* Progressive enhancements for the portal; every page works without this file. */
(function () {
  "use strict";
  // Ask before irreversible one-click actions (buttons with data-confirm).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = button && button.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      event.preventDefault();
    }
  });

  // Copy buttons (data-copy="<input id>") are hidden until JavaScript can make them work.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      input.select();
      var done = function () { button.textContent = button.getAttribute("data-copied") || "✓"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done);
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  // Live character and segment counter for the SMS text. It mirrors the gateway's split
  // (smsgw.cmpp.text.split_text): pure ASCII up to 159 characters is one message;
  // anything else goes as UCS2, 70 UTF-16 units in one message or 67 per segment. The
  // server's figure (shown after "preview" or sending) is the authoritative one.
  function segmentsOf(text) {
    var ascii = /^[\x00-\x7f]*$/.test(text);
    if (ascii && text.length <= 159) {
      return { chars: text.length, segments: 1, encoding: "ASCII" };
    }
    var units = text.length; // JavaScript strings are UTF-16, like UCS2 on the wire
    var chars = Array.from(text).length;
    return { chars: chars, segments: units <= 70 ? 1 : Math.ceil(units / 67), encoding: "UCS2" };
  }

  function signed(body, signature) {
    body = body.trim();
    if (signature) {
      if (body.indexOf(signature) === 0) { body = body.slice(signature.length).trim(); }
      if (body.slice(-signature.length) === signature) { body = body.slice(0, -signature.length).trim(); }
    }
    return body + signature;
  }

  document.querySelectorAll("textarea[data-sms-counter]").forEach(function (textarea) {
    var counter = document.getElementById(textarea.getAttribute("data-sms-counter"));
    var preview = document.getElementById("sms-preview");
    if (!counter || !preview) { return; }
    var signature = preview.getAttribute("data-signature") || "";
    // A copy of the figure right under the text box, for small screens where the
    // preview card sits below the form (the card's counter is the one announced).
    var mirror = document.createElement("p");
    mirror.className = "counter counter-inline";
    mirror.setAttribute("aria-hidden", "true");
    textarea.insertAdjacentElement("afterend", mirror);
    textarea.setAttribute("aria-describedby",
      ((textarea.getAttribute("aria-describedby") || "") + " sms-counter").trim());
    function update() {
      var content = signed(textarea.value, signature);
      var result = segmentsOf(content);
      var template = counter.getAttribute(result.segments === 1 ? "data-template-one" : "data-template-many");
      preview.textContent = content;
      counter.textContent = template.replace("{chars}", result.chars)
        .replace("{encoding}", result.encoding).replace("{segments}", result.segments);
      counter.setAttribute("data-segments", result.segments);
      mirror.textContent = counter.textContent;
    }
    textarea.addEventListener("input", update);
    if (textarea.value) { update(); }
  });
  window.masSegmentsOf = function (body, signature) { return segmentsOf(signed(body, signature || "")); };

  // Progress of a running send: poll the JSON endpoint until every number has a result.
  var progress = document.getElementById("send-progress");
  if (progress && progress.getAttribute("data-done") !== "1") {
    var url = progress.getAttribute("data-progress-url");
    var bar = document.getElementById("progress-bar");
    var status = document.getElementById("progress-status");
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          bar.max = data.accepted;
          bar.value = data.final;
          bar.textContent = data.final + " / " + data.accepted;
          Object.keys(data.states).forEach(function (state) {
            var cell = progress.querySelector('[data-state="' + state + '"]');
            if (cell) { cell.textContent = data.states[state]; }
          });
          if (data.done) {
            progress.setAttribute("data-done", "1");
            status.textContent = status.getAttribute("data-done-text") || status.textContent;
          } else {
            window.setTimeout(poll, 2000);
          }
        })
        .catch(function () { window.setTimeout(poll, 10000); });
    };
    window.setTimeout(poll, 1500);
  }
})();
