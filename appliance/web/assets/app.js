// Keeps the status page current: the server sends the page's sections as HTML ("page"
// events) and each new log line ("log" events). Without this script the page is complete as
// it was loaded.
(function () {
  'use strict';
  var live = document.getElementById('live');
  var log = document.getElementById('log');
  var conn = document.getElementById('conn');
  if (!window.EventSource || !live || !log) {
    return;
  }
  var maxLines = 200;
  var src = new EventSource('/api/events?format=html&after=' + encodeURIComponent(log.dataset.seq || '0'));

  function status(text, ok) {
    conn.textContent = text;
    conn.className = ok ? 'conn live' : 'conn';
  }

  // Each section that changed is replaced; the others stay, with whatever a reader selected.
  src.addEventListener('page', function (e) {
    var t = document.createElement('template');
    t.innerHTML = e.data;
    var seen = {};
    Array.prototype.forEach.call(t.content.querySelectorAll('section[id]'), function (fresh) {
      seen[fresh.id] = true;
      var old = document.getElementById(fresh.id);
      if (!old) {
        live.appendChild(fresh);
      } else if (old.innerHTML !== fresh.innerHTML) {
        old.replaceWith(fresh);
      }
    });
    Array.prototype.forEach.call(live.querySelectorAll('section[id]'), function (s) {
      if (!seen[s.id]) {
        s.remove();
      }
    });
    status('● live', true);
  });

  src.addEventListener('log', function (e) {
    var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    var line = document.createElement('div');
    line.className = 'line';
    line.textContent = e.data;
    log.appendChild(line);
    while (log.childElementCount > maxLines) {
      log.removeChild(log.firstElementChild);
    }
    if (atEnd) {
      log.scrollTop = log.scrollHeight;
    }
  });

  src.addEventListener('error', function () {
    status('○ reconnecting', false);
  });
})();
