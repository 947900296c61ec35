/* Calls a syscall number no kernel implements, three times: Linux answers ENOSYS each
 * time; the sandbox must too, and report it on stderr only once. */
#include "common.h"

int main(void)
{
    for (int i = 0; i < 3; i++)
        report("syscall 1000", syscall(1000));
    return 0;
}
