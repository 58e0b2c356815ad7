/* peakrss CMD [ARG...]: runs CMD in a forked child, waits for it, writes its peak resident
 * memory in KiB (wait4's ru_maxrss) and its own wall time in nanoseconds (from the fork to
 * the end of the wait) to file descriptor 3, and exits as CMD did.
 *
 * The benchmarks start commands through it because Go starts a child with vfork: Linux then
 * counts the parent's own peak in the child's ru_maxrss, and a peak read from /proc while a
 * command runs misses the last moments of a short one. A forked child's count starts from
 * this program's few pages.
 *
 * The wall time is the command's without this program's own start and end (about 1.5 ms on
 * the bench's machine): what a goal in milliseconds, start-up's, is judged on. */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2) {
		fputs("usage: peakrss CMD [ARG...]\n", stderr);
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("peakrss: fork");
		return 127;
	}
	if (pid == 0) {
		close(3); /* the report is this program's to write */
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	/* An interrupt sent to the process group is the command's to act on; this program
	 * waits for it, to say its peak. */
	signal(SIGINT, SIG_IGN);
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("peakrss: wait4");
		return 127;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	dprintf(3, "%ld %lld\n", ru.ru_maxrss, ns);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}
