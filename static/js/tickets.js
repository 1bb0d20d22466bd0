// Ticket queues refresh themselves every minute (htmx); a refresh would drop the supervisor's
// ticket selection for bulk assignment, so it waits while any ticket is ticked.
(() => {
  document.addEventListener("htmx:beforeRequest", (event) => {
    const queue = event.detail.elt;
    if (queue.id !== "ticket-queue") return;
    if (queue.querySelector("input[name='tickets']:checked")) event.preventDefault();
  });
})();
