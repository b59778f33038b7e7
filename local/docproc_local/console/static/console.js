// docproc console: the only script. Click a field to find its evidence; keep the event feed fresh.
(function () {
  "use strict";
  document.querySelectorAll("tr.field[data-anchor]").forEach(function (row) {
    row.addEventListener("click", function () {
      document.querySelectorAll("mark.active, tr.field.active").forEach(function (el) { el.classList.remove("active"); });
      row.classList.add("active");
      var label = row.getAttribute("data-field");
      var marks = Array.prototype.filter.call(document.querySelectorAll("mark[data-field]"), function (m) {
        return m.getAttribute("data-field").split(" ").indexOf(label) >= 0;
      });
      marks.forEach(function (m) { m.classList.add("active"); });
      if (marks.length) { marks[0].scrollIntoView({ block: "center" }); }
    });
  });

  var feed = document.getElementById("event-feed");
  if (feed) {
    var after = parseInt(feed.getAttribute("data-after"), 10) || 0;
    var cell = function (text) { var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); return td; };
    var poll = function () {
      fetch(feed.getAttribute("data-api") + "?after=" + after, { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          var body_ = feed.querySelector("tbody");
          body.events.slice().reverse().forEach(function (e) {
            var tr = document.createElement("tr");
            tr.appendChild(cell(e.time));
            tr.appendChild(cell(e.detailType));
            var td = document.createElement("td"), a = document.createElement("a");
            a.href = feed.getAttribute("data-doc").replace("DOCID", encodeURIComponent(e.documentId));
            a.textContent = e.key || e.documentId; td.appendChild(a); tr.appendChild(td);
            tr.appendChild(cell(e.status));
            tr.appendChild(cell((e.domain || "") + " / " + (e.documentClass || "")));
            tr.appendChild(cell(e.confidence == null ? "" : e.confidence.toFixed(2)));
            tr.appendChild(cell((e.reasonCode || "") + (e.reviewReasons || []).join(", ")));
            body_.insertBefore(tr, body_.firstChild);
            after = Math.max(after, e.sequence);
          });
        })
        .catch(function () { /* the console stopped; try again on the next tick */ });
    };
    setInterval(poll, 2000);
  }
})();
