// qualitymon 质量目标看板: enhancements only; every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // Filters submit as soon as a choice changes.
  for (const sel of document.querySelectorAll("select[data-autosubmit]")) {
    sel.addEventListener("change", () => sel.form.submit());
  }
  // The report's print button.
  for (const b of document.querySelectorAll("[data-print]")) {
    b.hidden = false;
    b.addEventListener("click", () => window.print());
  }
});
