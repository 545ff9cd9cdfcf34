// One Chromium for every pytest-xdist worker of a test run (tests/browser_helpers.py).
//
//   node playwright_server.js <playwright package dir> <options.json> <endpoint file> <watched pid>
//
// Starts Playwright's browser server (chromium.launchServer, the same launch as the Python
// side's playwright.chromium.launch, with Playwright's own switches) and writes its websocket
// endpoint to <endpoint file>; the workers attach with playwright.chromium.connect(endpoint).
// The test run's controller stops it at the end of the session; should the run die first, the
// server closes itself once <watched pid> (the controller) is gone.
const fs = require("fs");
const [packageDir, optionsFile, endpointFile, watchedPid] = process.argv.slice(2);
const { chromium } = require(packageDir);

(async () => {
  const options = JSON.parse(fs.readFileSync(optionsFile, "utf8"));
  const server = await chromium.launchServer(options);
  fs.writeFileSync(endpointFile + ".tmp", server.wsEndpoint());
  fs.renameSync(endpointFile + ".tmp", endpointFile);  // readers never see half an endpoint
  const watch = setInterval(async () => {
    try {
      process.kill(Number(watchedPid), 0);
    } catch {
      clearInterval(watch);
      await server.close();
      process.exit(0);
    }
  }, 2000);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
