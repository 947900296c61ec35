/* The smallest program to exec: returns 0. */
int main(void) { return 0; }
