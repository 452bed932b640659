"""Shared documentation of the site options every reintegrate module takes (magento_common.py)."""

from __future__ import annotations


class ModuleDocFragment:
    # Matches site_argument_spec() in module_utils/magento_common.py; tests/unit/test_module_docs.py
    # compares every module's rendered documentation with its argument_spec.
    DOCUMENTATION = r"""
options:
    magento_root:
        description: Magento root on the site (the parent of C(bin/magento), C1.1).
        type: path
        default: /var/www/html
    runner:
        description:
            - How to reach the site's files and commands.
            - C(docker) execs in O(container) through the Docker SDK from the control node.
            - C(local) uses the host the module runs on (for an SSH target, that host).
        type: str
        choices: [docker, local]
        default: docker
    container:
        description: Name or id of the app container. Required when O(runner=docker).
        type: str
    docker_host:
        description: Docker engine URL (for example C(unix:///var/run/docker.sock)); default from DOCKER_HOST.
        type: str
    cli_command:
        description:
            - Argv prefix that runs Magento's CLI, relative to O(magento_root).
            - For example C([php, -d, memory_limit=-1, bin/magento]).
        type: list
        elements: str
        default: [bin/magento]
    cli_user:
        description: User to run commands as (docker exec user, or C(sudo -u) for the local runner).
        type: str
    base_url:
        description: Store base URL exactly as Magento sees it (C6.1), with a trailing slash.
        type: str
    admin_username:
        description: Admin user name for the Admin login (C5.2).
        type: str
    admin_password:
        description: Admin password. Never logged.
        type: str
    db_host:
        description:
            - DB host that overrides the one in C(app/etc/env.php) (C1.2).
            - Set it when the control node reaches the DB through a published port.
        type: str
    db_port:
        description: DB port that overrides the one in C(app/etc/env.php).
        type: int
    db_ca_cert:
        description:
            - CA certificate (PEM file) that the DB server's TLS certificate must chain to; turns TLS on.
            - Named as community.mysql's O(ca_cert), which is an alias.
        type: path
        aliases: [ca_cert]
    db_client_cert:
        description: Client certificate (PEM file) to present to the DB server; turns TLS on.
        type: path
        aliases: [client_cert]
    db_client_key:
        description: Private key (PEM file) of O(db_client_cert).
        type: path
        aliases: [client_key]
    db_check_hostname:
        description:
            - Whether the DB server's certificate must name the DB host. Unset, pymysql checks it when
              O(db_ca_cert) is given.
        type: bool
        aliases: [check_hostname]
    http_timeout:
        description:
            - Timeout in seconds of each HTTP request to the store.
            - The first request after a cache flush rebuilds Magento's caches (14 s on a 2-core 2.4.7 in
              developer mode); a store that is down fails at connect time anyway.
        type: int
        default: 120
    validate_certs:
        description: Verify TLS certificates of O(base_url).
        type: bool
        default: true
    ca_path:
        description:
            - CA bundle (PEM file, or a folder prepared with c_rehash) that O(base_url)'s certificate must
              chain to, for a store behind a private CA; used by every HTTP request to the store (Admin,
              OAuth, REST) when O(validate_certs=true).
        type: path
"""

    # magento_setup_module and magento_oauth_tokens (the first destructive step takes the run lock).
    RUN_LOCK = r"""
options:
    run_lock:
        description:
            - Take the run lock of M(magento_run_lock) (one run per integration, MariaDB GET_LOCK) before
              deleting anything; a lock this O(run_lock.run_id) already holds is kept as it is. Another
              run's lock fails the task after O(run_lock.wait) seconds, naming the holder, with nothing
              deleted. Not taken in check mode.
        type: dict
        suboptions:
            integration:
                description: The integration the lock is for.
                type: str
                required: true
            run_id:
                description: This run's id.
                type: str
                required: true
            state_file:
                description: The holder's state file (0600).
                type: path
                required: true
            wait:
                description: Seconds to wait for another run's lock.
                type: int
                default: 120
            lease:
                description: Seconds after which the holder ends by itself.
                type: int
                default: 3600
"""
