// Buuta: the desk page. (being written)
(function () {
  'use strict';
})();
