#!/usr/bin/env python3
"""Drives headless Chromium through one admin action of an HAProxy-style stats page.

usage: stats_admin.py URL BACKEND SERVER ACTION

Opens URL, ticks the checkbox of SERVER in BACKEND's form, picks ACTION in the form's
"Choose the action" select, clicks Apply and waits for the page the 303 leads to. Prints one
JSON object: the final URL, the banner text and what the page showed before the action.
Exit status 0 when the browser run worked (the caller judges the result), 2 on usage errors,
1 when the page did not have the expected form.
"""
import json
import shutil
import sys
import tempfile

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--user-data-dir=" + profile,
    ):
        opts.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=opts)


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    url, backend, server, action = sys.argv[1:]
    profile = tempfile.mkdtemp(prefix="rhaproxy-chromium-")
    driver = None
    try:
        driver = browser(profile)
        driver.set_page_load_timeout(20)
        driver.get(url)
        box = driver.find_element(
            By.CSS_SELECTOR, "input.%s-checkbox[name='s'][value='%s']" % (backend, server)
        )
        form = box.find_element(By.XPATH, "./ancestor::form")
        box.click()
        Select(form.find_element(By.NAME, "action")).select_by_value(action)
        b_value = form.find_element(
            By.CSS_SELECTOR, "input[type='hidden'][name='b']"
        ).get_attribute("value")
        before = driver.current_url
        form.find_element(By.CSS_SELECTOR, "input[type='submit'][value='Apply']").click()
        WebDriverWait(driver, 15).until(lambda d: ";st=" in d.current_url)
        banner = ""
        for div in driver.find_elements(By.CSS_SELECTOR, "div"):
            links = div.find_elements(By.CSS_SELECTOR, "a[title='Remove this message']")
            if links:
                banner = div.text.replace("[X]", "").strip()
                break
        print(
            json.dumps(
                {
                    "before": before,
                    "url": driver.current_url,
                    "banner": banner,
                    "b": b_value,
                }
            )
        )
        return 0
    except WebDriverException as e:
        print("browser error: %s" % e.msg, file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
