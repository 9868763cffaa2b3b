// commands.h: every `vkt` subcommand. Each is `int cmd_NAME(int argc, char **argv)`
// with argv[0] = the subcommand's name, returning CLI_OK, CLI_FAILED or CLI_USAGE.
#ifndef VKT_COMMANDS_H
#define VKT_COMMANDS_H

typedef struct vkt_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} vkt_command;

int cmd_devices(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_arena(int argc, char **argv);
int cmd_kuhn(int argc, char **argv);
int cmd_offswitch(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_steer(int argc, char **argv);
int cmd_selfplay(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);

#endif
