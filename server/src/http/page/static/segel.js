// Segel's verification page: drag and drop onto the form's drop zone, as an improvement only.
// Without this script the real file input does everything; with it, a file dropped anywhere
// on the zone becomes the input's file and its name is shown. No data leaves the page here:
// the form posts as it would without the script.
"use strict";
(function () {
  var zone = document.getElementById("drop");
  var input = document.getElementById("file");
  if (!zone || !input || typeof DataTransfer === "undefined") {
    return;
  }
  function stop(e) {
    e.preventDefault();
    e.stopPropagation();
  }
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) {
      stop(e);
      zone.classList.add("over");
    });
  });
  ["dragleave", "dragend"].forEach(function (name) {
    zone.addEventListener(name, function () {
      zone.classList.remove("over");
    });
  });
  zone.addEventListener("drop", function (e) {
    stop(e);
    zone.classList.remove("over");
    var files = e.dataTransfer && e.dataTransfer.files;
    if (!files || files.length === 0) {
      return;
    }
    var dt = new DataTransfer();
    dt.items.add(files[0]);
    input.files = dt.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });
})();
