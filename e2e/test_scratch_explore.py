def test_explore(page, live_server):
    page.goto("/cars")
    print(page.locator("#result-count").inner_text())
    print(page.locator("#result-list article").evaluate_all("els => els.map(e => e.dataset.carId + ' ' + e.innerText.replace(/\\s+/g,' '))"))
    print(page.locator("select[name=brand]").inner_text())
    page.screenshot(path="/tmp/e2e-shots/explore.png", full_page=True)
