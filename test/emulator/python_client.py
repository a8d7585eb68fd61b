"""Drives the Marathon emulator with Debian's python3-marathon and prints what the client parsed as JSON.

Usage: /usr/bin/python3 python_client.py http://127.0.0.1:PORT
Exits 3 with a clear message when the marathon module is missing.
"""
import json
import sys
import time

try:
    from marathon import MarathonApp, MarathonClient
    from marathon.exceptions import NotFoundError
except ImportError as error:
    print(f"python3-marathon is not installed for {sys.executable}: {error}. "
          "Install it with: apt-get install -y python3-marathon", file=sys.stderr)
    sys.exit(3)

APP_ID = "python-client-app"


def wait_for_no_deployments(client, timeout_s=20.0):
    """Polls list_deployments until it is empty; returns every deployment id seen."""
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        deployments = client.list_deployments()
        seen.extend(d.id for d in deployments if d.id not in seen)
        if not deployments:
            return seen
        time.sleep(0.02)
    raise TimeoutError(f"deployments still running after {timeout_s}s: {seen}")


def main(url):
    client = MarathonClient([url], timeout=10)
    result = {"ping": client.ping().decode(), "info_version": client.get_info().version}

    created = client.create_app(APP_ID, MarathonApp(cmd="sleep 3600", mem=16, cpus=0.1, instances=1))
    result["created_id"] = created.id
    result["created_deployments"] = [d.id for d in created.deployments]
    result["create_deployments_listed"] = [d.id for d in client.list_deployments()]
    wait_for_no_deployments(client)

    app = client.get_app(APP_ID)
    result["get_instances"] = app.instances
    result["get_tasks_running"] = app.tasks_running

    scaled = client.scale_app(APP_ID, instances=3)
    result["scale_deployment_id"] = scaled["deploymentId"]
    result["scale_deployments_seen"] = wait_for_no_deployments(client)

    apps = client.list_apps(embed_tasks=True, embed_counts=True, embed_deployments=True, embed_last_task_failure=True)
    result["listed"] = [{"id": a.id, "instances": a.instances, "tasks_running": a.tasks_running} for a in apps]

    tasks = client.list_tasks(APP_ID)
    result["tasks"] = [{"app_id": t.app_id, "host": t.host, "ports": t.ports, "state": t.state} for t in tasks]
    result["all_tasks_count"] = len(client.list_tasks())

    deleted = client.delete_app(APP_ID)
    result["delete_deployment_id"] = deleted["deploymentId"]
    try:
        client.get_app(APP_ID)
        result["get_after_delete"] = "found"
    except NotFoundError as error:
        result["get_after_delete"] = f"NotFoundError: {error}"
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
