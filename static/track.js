// Buuta: the public tracking page. Works without this script; it only tidies input.
(function () {
  'use strict';
  const code = document.getElementById('code');
  if (code) {
    code.addEventListener('input', () => {
      const pos = code.selectionStart;
      code.value = code.value.toUpperCase().replace(/\s+/g, '');
      code.setSelectionRange(pos, pos);
    });
    if (!code.value) code.focus();
  }
  const digits = document.getElementById('phone_last4');
  if (digits) digits.addEventListener('input', () => { digits.value = digits.value.replace(/\D/g, '').slice(0, 4); });
})();
