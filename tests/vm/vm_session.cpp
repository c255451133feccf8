/* polyns-vm-session [--setuid] SERVICE USER [VAR=VAL...] [-- COMMAND]
 *
 * The login program of the SELinux VM (tests/vm): pam_start, the VAR=VAL
 * pairs put into the PAM environment (how SELINUX_LEVEL_REQUESTED reaches
 * pam_selinux's env_params), pam_open_session, COMMAND through /bin/sh -c in
 * a child (it inherits the session's mount namespace and the exec context
 * pam_selinux set), pam_close_session. No authentication: the VM runs it as
 * root from the login domain (runcon local_login_t). With --setuid, COMMAND
 * runs with the user's uid, gid and groups, as a login shell does.
 * Prints "open=<pam_strerror>" and exits 0 when the session opened, 1 when
 * not, 2 on a usage error. */
#include <security/pam_appl.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    (void)data;
    for (int i = 0; i < n; i++) fprintf(stderr, "pam message: %s\n", msg[i]->msg);
    *resp = static_cast<pam_response*>(calloc(static_cast<size_t>(n), sizeof **resp));
    return *resp ? PAM_SUCCESS : PAM_BUF_ERR;
}

int main(int argc, char **argv)
{
    bool as_user = argc > 1 && strcmp(argv[1], "--setuid") == 0;
    if (as_user) {
        argv++;
        argc--;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: polyns-vm-session SERVICE USER [VAR=VAL...] [-- COMMAND]\n");
        return 2;
    }
    struct pam_conv conv = {no_conversation, nullptr};
    pam_handle_t *pamh = nullptr;
    int rc = pam_start(argv[1], argv[2], &conv, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pam_start: %d\n", rc);
        return 1;
    }
    int i = 3;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) pam_putenv(pamh, argv[i]);
    const char *command = i + 1 < argc ? argv[i + 1] : nullptr;

    rc = pam_open_session(pamh, 0);
    printf("open=%s\n", pam_strerror(pamh, rc));
    fflush(stdout);
    if (rc == PAM_SUCCESS && command != nullptr) {
        pid_t pid = fork();
        if (pid == 0) {
            if (as_user) {
                const struct passwd* pw = getpwnam(argv[2]);
                if (pw == nullptr || initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
                    setuid(pw->pw_uid) != 0)
                    _exit(126);
            }
            execl("/bin/sh", "sh", "-c", command, static_cast<char *>(nullptr));
            _exit(127);
        }
        int status = 0;
        if (pid > 0) waitpid(pid, &status, 0);
    }
    int opened = rc == PAM_SUCCESS;
    if (opened) {
        int closed = pam_close_session(pamh, 0);
        printf("close=%s\n", pam_strerror(pamh, closed));
    }
    pam_end(pamh, rc);
    return opened ? 0 : 1;
}
