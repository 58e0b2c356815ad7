// The log search: lines that do not contain the words typed (any case) are hidden. The
// search may come in the page's address too (#q=words), so that it can be linked to.
(function () {
  var box = document.getElementById('search');
  var count = document.getElementById('count');
  var lines = document.querySelectorAll('#logs .line');
  function apply() {
    var q = box.value.toLowerCase();
    var shown = 0;
    for (var i = 0; i < lines.length; i++) {
      var hit = q === '' || lines[i].textContent.toLowerCase().indexOf(q) >= 0;
      lines[i].classList.toggle('hidden', !hit);
      if (hit) { shown++; }
    }
    count.textContent = q === '' ? lines.length + ' lines' : shown + ' of ' + lines.length + ' lines';
  }
  var m = /[#&]q=([^&]*)/.exec(location.hash);
  if (m) { box.value = decodeURIComponent(m[1]); }
  box.addEventListener('input', apply);
  apply();
})();
