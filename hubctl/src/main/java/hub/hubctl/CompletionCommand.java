package hub.hubctl;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl completion bash|zsh}: a completion script that asks hubctl itself what fits
 * ({@code hubctl __complete}, see {@link Completions}): commands and options from the same model as
 * {@code --help}, and live node names, label keys and values from the hub, so it cannot drift.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Print a shell completion script for hubctl.",
            "bash: source <(hubctl completion bash)   (or put it in /etc/bash_completion.d/hubctl)",
            "zsh:  autoload -U +X bashcompinit && bashcompinit && source <(hubctl completion zsh)"})
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "bash|zsh", description = "The shell.")
    String shell;

    @Override
    public Integer call() {
        if (!shell.equals("bash") && !shell.equals("zsh")) {
            throw HubctlException.usage("completion is for bash or zsh, not '" + shell + "'");
        }
        // The script is bash; zsh runs it through bashcompinit.
        spec.commandLine().getOut().print(Completions.script());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
