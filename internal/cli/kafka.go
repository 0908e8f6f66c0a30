package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/kafkabroker"
)

func (a *App) kafkaStartForegroundCmd() *cobra.Command {
	var port int
	var topics []string
	cmd := &cobra.Command{
		Use:   "start-foreground [--port 9092] [--topic NAME:PARTITIONS …]",
		Short: "Run an in-memory Kafka-protocol broker (franz-go's kfake) on 127.0.0.1 until Ctrl-C/SIGTERM",
		Long: "Runs an in-memory Kafka-protocol broker (franz-go's kfake) on 127.0.0.1:--port (0: a free port) with " +
			"the --topic topics created, until Ctrl-C or SIGTERM. It keeps nothing. Standard output gets one line, " +
			"`kafka: listening on HOST:PORT`, once it accepts connections.",
		Example: "  tide kafka start-foreground --topic topic:1\n" +
			"  tide kafka start-foreground --port 0 --topic numbers:4 --topic out:4",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			conf := kafkabroker.Config{Port: port}
			for _, s := range topics {
				t, err := kafkabroker.ParseTopic(s)
				if err != nil {
					return err
				}
				conf.Topics = append(conf.Topics, t)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			b, err := kafkabroker.Start(conf)
			if err != nil {
				return err
			}
			defer b.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "kafka: listening on %s\n", b.Addr())
			<-ctx.Done()
			fmt.Fprintln(cmd.ErrOrStderr(), "kafka: stopping")
			return nil
		},
	}
	cmd.Flags().IntVar(&port, "port", 9092, "port on 127.0.0.1 (0: a free port, printed)")
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "a topic to create, NAME:PARTITIONS (repeatable)")
	return cmd
}
