// Buuta courier service worker, version __VERSION__. (being written)
const FILES = __FILES__;
