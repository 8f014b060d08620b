# JupyterHub for a class on one server: every student gets a JupyterLab with the
# series, pulled into ~/lalib by an nbgitpuller link (see README, "A class on a
# JupyterHub"). Start with:  jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
#
# What the server needs (one Python environment for the hub and the students):
#   pip install jupyterhub oauthenticator jupyterhub-systemdspawner jupyterhub-idle-culler \
#               nbgitpuller "lalib[lab] @ git+<this repository>"
#   npm install -g configurable-http-proxy
# The Littlest JupyterHub (TLJH) sets up the same pieces on one machine with one command;
# these settings carry over to its config.yaml.

c = get_config()  # noqa: F821  (JupyterHub provides it when it reads this file)

# --- who may log in -------------------------------------------------------------------------------------
# In production, log in through the institution's accounts. GitHub (or any OAuth / OpenID Connect
# provider) works without system accounts on the server:
c.JupyterHub.authenticator_class = "oauthenticator.GitHubOAuthenticator"
c.GitHubOAuthenticator.oauth_callback_url = "https://hub.example.edu/hub/oauth_callback"
# client id and secret come from the environment (OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET), never from a file
# under version control. The class list, one GitHub user name per student, and the lecturers:
c.Authenticator.allowed_users = set()      # e.g. {"student1", "student2"}
c.Authenticator.admin_users = set()        # e.g. {"lecturer"}
# For a class with local accounts instead: c.JupyterHub.authenticator_class = "pam".

# --- one single-user server per student, with limits --------------------------------------------------
# SystemdSpawner runs each student's server as a systemd unit, so the memory and CPU limits below are
# enforced by the kernel (LocalProcessSpawner would only record them). Each student gets a private
# home directory and a dynamic system user.
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.SystemdSpawner.dynamic_users = True
c.SystemdSpawner.isolate_tmp = True
c.SystemdSpawner.isolate_devices = True
c.Spawner.default_url = "/lab"
# Sized from the measured memory of one student's server after running a whole chapter
# (tests/hub reports it; the chapters themselves peak below 300 MiB each, README "How it is tested"):
# the guarantee covers the server plus one running chapter, the limit leaves room for a second
# chapter's kernel left open. A student who exceeds the limit loses the kernel, not the hub.
c.Spawner.mem_guarantee = "512M"
c.Spawner.mem_limit = "1G"
c.Spawner.cpu_guarantee = 0.5
c.Spawner.cpu_limit = 1.0
# Students wait while the server starts; a cold start with a full Python stack takes a few seconds.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60

# --- free what idle students hold ---------------------------------------------------------------------
# jupyterhub-idle-culler stops servers idle for an hour (their files stay in the student's home;
# the next nbgitpuller click starts a new server and pulls again).
c.JupyterHub.load_roles = [
    {
        "name": "jupyterhub-idle-culler-role",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["jupyterhub-idle-culler-service"],
    }
]
c.JupyterHub.services = [
    {
        "name": "jupyterhub-idle-culler-service",
        "command": ["python3", "-m", "jupyterhub_idle_culler", "--timeout=3600", "--cull-every=300"],
    }
]
# Kernels left running in an open tab also stop after an hour of idleness.
c.Spawner.args = ["--MappingKernelManager.cull_idle_timeout=3600", "--MappingKernelManager.cull_interval=300"]

# --- where it listens -----------------------------------------------------------------------------------
# Behind HTTPS: either let JupyterHub terminate TLS (c.JupyterHub.ssl_cert / ssl_key) or put a reverse
# proxy (nginx, Caddy) in front and keep the hub on loopback.
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
