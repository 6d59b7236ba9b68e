// Buuta: the operator page. (being written)
(function () {
  'use strict';
})();
