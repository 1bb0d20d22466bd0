// Dashboards: each [data-chart] box draws the ECharts option the server wrote into the
// json_script block it names. Functions cannot travel in JSON, so the units' formatters are
// added here. A click on a point opens the records behind it (each point carries its url).
(() => {
  const zh = (document.documentElement.lang || "").toLowerCase().startsWith("zh");
  const suffixes = () => {
    const block = document.getElementById("chart-units");
    return block ? JSON.parse(block.textContent) : { hours: "h", days: "d" };
  };

  const formatter = (unit) => {
    const words = suffixes();
    return (value) => {
      if (value === null || value === undefined || value === "") return "—";
      const number = Number(value);
      switch (unit) {
        case "cny":
          if (zh && Math.abs(number) >= 10000) return `¥${(number / 10000).toFixed(1)}万`;
          return `¥${number.toLocaleString(undefined, { maximumFractionDigits: 2 })}`;
        case "percent":
          return `${number.toFixed(1)}%`;
        case "hours":
          return `${number.toFixed(1)} ${words.hours}`;
        case "days":
          return `${number.toFixed(1)} ${words.days}`;
        case "score":
          return `${number}`;
        default:
          return number.toLocaleString();
      }
    };
  };

  const withFormatters = (option) => {
    const unit = option.unit || "count";
    (option.series || []).forEach((series) => {
      const format = formatter(series.unit || unit);
      series.tooltip = { valueFormatter: format };
      if (series.type === "pie" || series.type === "funnel") {
        series.label = { show: true, formatter: (params) => `${params.name}: ${format(params.value)}` };
      }
    });
    [].concat(option.xAxis || [], option.yAxis || []).forEach((axis) => {
      if (axis.type === "value") {
        axis.axisLabel = { formatter: formatter(axis.unit || unit) };
      }
    });
    return option;
  };

  const draw = (box) => {
    if (typeof echarts === "undefined" || box.chart) return;
    const block = document.getElementById(box.dataset.chart);
    if (!block) return;
    const chart = echarts.init(box);
    chart.setOption(withFormatters(JSON.parse(block.textContent)));
    chart.on("click", (params) => {
      const url = params.data && params.data.url;
      if (url) window.location.assign(url);
    });
    box.chart = chart;
    box.dataset.ready = "true";
  };

  const drawAll = () => document.querySelectorAll("[data-chart]").forEach(draw);
  document.addEventListener("DOMContentLoaded", drawAll);
  window.addEventListener("resize", () => {
    document.querySelectorAll("[data-chart]").forEach((box) => box.chart && box.chart.resize());
  });
})();
