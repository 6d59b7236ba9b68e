// Buuta: the dispatch page. (being written)
(function () {
  'use strict';
})();
