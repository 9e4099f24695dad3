// The demo page's script: a widget whose token comes from the URL fragment (#token=...).
(function () {
  'use strict';
  var chat = null;

  function tokenFromFragment() {
    return new URLSearchParams(window.location.hash.slice(1)).get('token');
  }

  function start() {
    if (chat) chat.destroy();
    chat = null;
    var status = document.getElementById('status');
    if (!tokenFromFragment()) {
      status.textContent = 'No token in this address. Run "performchat quickstart" and open the link it ' +
        'prints, or add #token=<a chat token> to the address.';
      return;
    }
    status.textContent = 'The chat is open in the corner: ask it something.';
    chat = window.PerformChat.init({
      baseUrl: window.location.origin,
      // No back end to ask for a new token: the fragment's token is all there is.
      getToken: function () { return tokenFromFragment(); }
    });
    chat.open();
  }

  window.addEventListener('hashchange', start);
  start();
})();
