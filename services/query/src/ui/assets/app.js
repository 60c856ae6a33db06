// memvox memory inspector: the page's only script, served from the binary (no inline script,
// no other origin). Everything works without it; it only adds two conveniences.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms that destroy something ask once more before they are sent.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // A memory's source call: bring its first cited turn into view within the transcript.
  const cited = document.querySelector(".transcript .cited");
  if (cited) {
    const transcript = cited.closest(".transcript");
    transcript.scrollTop = cited.offsetTop - transcript.offsetTop - 24;
  }
});
