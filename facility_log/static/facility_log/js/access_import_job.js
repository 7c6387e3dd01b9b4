// While an import runs, ask for its progress every second and show it; reload once it ends
// (the page then shows what was stored, or why the file was refused).
const card = document.getElementById("import-job");
if (card && card.dataset.running === "1") {
  const bar = document.getElementById("import-progress");
  const label = document.getElementById("import-job-status");
  const poll = async () => {
    try {
      const response = await fetch(card.dataset.progressUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        bar.value = job.percent;
        bar.textContent = `${job.percent} %`;
        label.textContent = `${job.status_label}, ${job.percent} %`;
        if (!job.running) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // Offline for a moment: try again at the next tick.
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}
