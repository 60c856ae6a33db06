"""The memory inspector in a real browser: Debian's headless Chromium driven through WebDriver
(chromium-driver, the pinned `selenium` client), against a running `memvox serve` seeded by
scripts/test-inspector.sh (a call posted to the post-call webhook, which memvox extracts; one more memory is
added here through the REST API once the caller exists).

Checks: the inspector asks for a sign-in and the page loads behind it; a caller is found by
number; a search returns the expected memory with its score breakdown; caller data is shown as
text (a memory holding a <script> runs nothing); an edit round-trips (saved, shown, and read
back through the REST API); erasure asks first (the caller still exists on the confirmation
page), then erases and shows the receipt. Takes a screenshot of each page into SHOTS_DIR.

Usage: inspector_browser.py BASE_URL ADMIN_TOKEN CALLER_NUMBER SHOTS_DIR
(exit 0 when every check passes)
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

checks = 0
# A fact memvox's offline extractor draws from the fixture's call (turn 5).
EXTRACTED = "Prefers mornings for callbacks"


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def api(base, token, method, path, body=None):
    """A REST API call with the admin token: (status, JSON body or None)."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, None


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def shot(driver, shots, name):
    """A screenshot of the whole page."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 700), 2600))
    driver.save_screenshot(os.path.join(shots, f"{name}.png"))
    driver.set_window_size(1280, 1000)


def next_page(driver, action):
    """Runs `action` (a click that navigates) and waits until the next page has loaded."""
    driver.execute_script("window.__previous_page = true")
    action()
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.__previous_page === undefined && document.readyState === 'complete'"))


def submit(driver, form_css):
    """Sends a form and waits for the page it leads to."""
    button = driver.find_element(By.CSS_SELECTOR, f"{form_css} button[type=submit]")
    next_page(driver, button.click)


def follow(driver, link):
    """Follows a link and waits for the page it leads to."""
    next_page(driver, link.click)


def no_alert(driver):
    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def find_when_extracted(driver, base, number):
    """Finds the caller by number once their call's memories are in (within 60 s); their id."""
    deadline = time.monotonic() + 60
    while True:
        driver.get(f"{base}/ui/find?q={urllib.parse.quote(number)}")
        if "/ui/users/" in driver.current_url and EXTRACTED in driver.page_source:
            return urllib.parse.unquote(driver.current_url.split("/ui/users/")[1].split("?")[0])
        check(time.monotonic() < deadline, f"the call of {number} was not extracted in 60 s")
        time.sleep(0.5)


def run(base, token, number, shots):
    driver = browser()
    try:
        driver.get(f"{base}/ui")
        check(driver.current_url.endswith("/ui/login"), f"sign-in first, at {driver.current_url}")
        shot(driver, shots, "inspector-sign-in")
        driver.find_element(By.ID, "token").send_keys(token)
        submit(driver, "form[action='/ui/login']")
        check(driver.find_element(By.TAG_NAME, "h1").text == "Find a caller", "the inspector loads")

        user_id = find_when_extracted(driver, base, number)
        check(user_id.startswith("guest_"), f"found by number: {user_id}")
        added = [
            {"content": "<script>window.__injected = 1</script> asked about opening hours",
             "sector": "episodic", "salience": 0.3},
            {"content": "Allergic to penicillin", "sector": "semantic", "salience": 0.9},
            {"content": "Has a penicillin allergy since childhood", "sector": "semantic",
             "salience": 0.6},
            {"content": "Allergic to penicillin and amoxicillin", "sector": "semantic",
             "salience": 0.7},
        ]
        for memory in added:
            status, _ = api(base, token, "POST", f"/v1/users/{user_id}/memories", memory)
            check(status == 201, f"a memory added through the API: {status}")
        driver.refresh()
        text = driver.find_element(By.TAG_NAME, "main").text
        check(EXTRACTED in text and "Allergic to penicillin" in text, "the memories are listed")
        check("<script>window.__injected = 1</script>" in text, "a memory's markup is shown as text")
        check(driver.execute_script("return window.__injected === undefined"), "and runs nothing")
        check(no_alert(driver), "no alert")
        check(len(driver.find_elements(By.CSS_SELECTOR, "figure.chart svg path.curve")) >= 2,
              "a decay chart per sector")
        shot(driver, shots, "inspector-caller")

        driver.find_element(By.CSS_SELECTOR, "main form.search input[name=q]").send_keys("amoxicillin")
        submit(driver, "main form.search")
        first = driver.find_element(By.CSS_SELECTOR, "tr.result")
        check("Allergic to penicillin and amoxicillin" in first.text,
              f"the expected memory ranks first: {first.text}")
        total = first.find_element(By.CSS_SELECTOR, "td.total").text
        check(0.0 < float(total) <= 1.0, f"a score total: {total}")
        check(len(first.find_elements(By.CSS_SELECTOR, "td.num")) == 5, "the score's five terms")
        shot(driver, shots, "inspector-search")

        driver.get(f"{base}/ui/users/{urllib.parse.quote(user_id)}")
        follow(driver, driver.find_element(By.LINK_TEXT, "Allergic to penicillin"))
        deadline = time.monotonic() + 30
        while len(driver.find_elements(By.CSS_SELECTOR, "figure.graph line.edge")) < 1:
            check(time.monotonic() < deadline, "the embedding worker links the similar memories")
            time.sleep(0.5)
            driver.refresh()
        shot(driver, shots, "inspector-links")

        driver.get(f"{base}/ui/users/{urllib.parse.quote(user_id)}")
        follow(driver, driver.find_element(By.LINK_TEXT, EXTRACTED))
        cited = driver.find_elements(By.CSS_SELECTOR, ".transcript li.cited")
        check(cited and "mornings are best" in cited[0].text, "the cited turn is highlighted")
        check(driver.find_elements(By.CSS_SELECTOR, "figure.chart path.prior"), "its decay chart")
        shot(driver, shots, "inspector-memory")
        memory_id = driver.current_url.split("/memories/")[1].split("?")[0]
        content = driver.find_element(By.ID, "content")
        content.clear()
        content.send_keys("Prefers weekday mornings before 10 for callbacks")
        submit(driver, "form.edit")
        check(driver.find_element(By.CSS_SELECTOR, ".notice").text == "Saved.", "the edit is saved")
        shown = driver.find_element(By.CSS_SELECTOR, "blockquote.content").text
        check(shown == "Prefers weekday mornings before 10 for callbacks", f"and shown: {shown}")
        status, memory = api(base, token, "GET", f"/v1/users/{user_id}/memories/{memory_id}")
        check(status == 200 and memory["content"] == shown, f"and read back by the API: {memory}")
        history = driver.find_element(By.CSS_SELECTOR, "table.history").text
        check(EXTRACTED in history, "the earlier text is in the history")

        driver.get(f"{base}/ui/users/{user_id}")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "a.button.danger"))
        check(driver.current_url.endswith(f"/ui/users/{user_id}/erase"), "erasing asks first")
        check(api(base, token, "GET", f"/v1/users/{user_id}")[0] == 200, "nothing erased yet")
        shot(driver, shots, "inspector-erase")
        driver.find_element(By.ID, "confirm").send_keys("not the id")
        submit(driver, "section.danger form")
        check("nothing was erased" in driver.find_element(By.CSS_SELECTOR, ".error").text,
              "a wrong id is refused")
        check(api(base, token, "GET", f"/v1/users/{user_id}")[0] == 200, "still nothing erased")
        driver.find_element(By.ID, "confirm").send_keys(user_id)
        submit(driver, "section.danger form")
        check(driver.find_element(By.TAG_NAME, "h1").text == f"Erased {user_id}", "the receipt")
        check("memories" in driver.find_element(By.CSS_SELECTOR, "table.receipt").text, "per table")
        check(api(base, token, "GET", f"/v1/users/{user_id}")[0] == 404, "the caller is gone")
        shot(driver, shots, "inspector-receipt")
    finally:
        driver.quit()


if __name__ == "__main__":
    run(*sys.argv[1:5])
    print(f"memory inspector in Chromium: {checks} checks passed")
