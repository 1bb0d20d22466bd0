// The follow-up calendar: drag a task chip you own to another day to reschedule it (the time of
// day stays). The server checks ownership; a refused drop puts the chip back.
(() => {
  let dragged = null;

  document.addEventListener("dragstart", (event) => {
    const chip = event.target.closest("[data-reschedule-url]");
    if (!chip) return;
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.dataset.task);
  });

  document.addEventListener("dragend", () => {
    dragged = null;
    document.querySelectorAll("[data-drop-date].drop-target").forEach((cell) => {
      cell.classList.remove("drop-target", "table-info");
    });
  });

  document.addEventListener("dragover", (event) => {
    const cell = event.target.closest("[data-drop-date]");
    if (!cell || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("drop-target", "table-info");
  });

  document.addEventListener("dragleave", (event) => {
    const cell = event.target.closest("[data-drop-date]");
    if (cell && !cell.contains(event.relatedTarget)) {
      cell.classList.remove("drop-target", "table-info");
    }
  });

  document.addEventListener("drop", async (event) => {
    const cell = event.target.closest("[data-drop-date]");
    if (!cell || !dragged) return;
    event.preventDefault();
    const chip = dragged;
    const origin = chip.parentElement;
    cell.insertBefore(chip, cell.querySelector("[data-more]")); // chips stay above "+N more"
    const body = new URLSearchParams({ date: cell.dataset.dropDate });
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    headers["HX-Request"] = "true";
    try {
      const response = await fetch(chip.dataset.rescheduleUrl, {
        method: "POST",
        body,
        headers,
        credentials: "same-origin",
      });
      if (!response.ok) {
        origin.insertBefore(chip, origin.querySelector("[data-more]"));
        const message = await response.text();
        if (response.status === 409 && message) window.alert(message);
      }
    } catch {
      origin.insertBefore(chip, origin.querySelector("[data-more]"));
    }
  });
})();
