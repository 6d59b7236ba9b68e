// Buuta: the courier page. (being written)
(function () {
  'use strict';
})();
