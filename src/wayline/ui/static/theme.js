// Applies the theme chosen with the toggle before the page paints; without a choice the
// stylesheet follows the system's prefers-color-scheme.
(function () {
  try {
    var theme = localStorage.getItem("wayline-theme");
    if (theme === "dark" || theme === "light") {
      document.documentElement.dataset.theme = theme;
    }
  } catch (e) {
    // Storage may be disabled: the system setting still applies.
  }
})();
