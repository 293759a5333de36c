// The navigation toggles. sphinx-book-theme 1.3.0 with pydata-sphinx-theme 0.17.1 puts two
// ".primary-toggle" buttons on each page (one in each theme's header), and two
// ".secondary-toggle"; both themes bind their click handlers to the first of each, which is
// hidden at every width, so the visible buttons did nothing. A click on any other copy is
// passed to the first: on a phone it opens the drawer, on a desktop it hides the sidebar.
document.addEventListener("DOMContentLoaded", () => {
  for (const selector of [".primary-toggle", ".secondary-toggle"]) {
    const [bound, ...copies] = document.querySelectorAll(selector);
    for (const copy of copies) {
      copy.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
});
