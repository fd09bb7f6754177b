#include "cli_common.h"

int main(int argc, char** argv) { return endd::cli::run_cli(argc, argv); }
