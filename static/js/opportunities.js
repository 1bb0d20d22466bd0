// The pipeline board: drag a card to another column to move the opportunity to that stage.
// The drop posts to the same service the detail page uses; the server answers with the board
// re-rendered, so a refused move puts the card back and shows why, and the column totals
// always come from the server.
(() => {
  const init = (root) => {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-drop-zone]").forEach((zone) => {
      if (zone.sortable) return;
      zone.sortable = Sortable.create(zone, {
        group: "pipeline",
        draggable: "[data-move-url]",
        animation: 150,
        // Pointer events rather than native drag and drop: the same on every browser and touch.
        forceFallback: true,
        onEnd: (event) => {
          if (event.from === event.to) return;
          const board = event.to.closest("[data-board]");
          htmx.ajax("POST", event.item.dataset.moveUrl, {
            source: event.item,
            target: "#board",
            swap: "innerHTML",
            values: {
              stage: event.to.dataset.stageId,
              from: "board",
              filters: board ? board.dataset.filters : "",
            },
          });
        },
      });
    });
  };
  htmx.onLoad(init);
})();
