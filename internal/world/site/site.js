// Script every site of the world loads; it only marks the page as ready.
document.addEventListener("DOMContentLoaded", function () {
  document.body.className += " ready";
});
