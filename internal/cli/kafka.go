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
	var host, advertised string
	var topics []string
	cmd := &cobra.Command{
		Use:   "start-foreground [--port 9092] [--host 127.0.0.1] [--advertised-host NAME] [--topic NAME:PARTITIONS …]",
		Short: "Run an in-memory Kafka-protocol broker (franz-go's kfake) on 127.0.0.1 until Ctrl-C/SIGTERM",
		Long: "Runs an in-memory Kafka-protocol broker (franz-go's kfake) on 127.0.0.1:--port (0: a free port) with " +
			"the --topic topics created, until Ctrl-C or SIGTERM. It keeps nothing. Standard output gets one line, " +
			"`kafka: listening on HOST:PORT`, once it accepts connections (HOST is the advertised host when one is given).\n" +
			"--host 0.0.0.0 listens on every interface (it has no authentication: only for a private network, such as " +
			"a Kubernetes pod); --advertised-host is the name clients are told to connect to, e.g. the Service's name.",
		Example: "  tide kafka start-foreground --topic topic:1\n" +
			"  tide kafka start-foreground --port 0 --topic numbers:4 --topic out:4",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			conf := kafkabroker.Config{Port: port, Host: host, AdvertisedHost: advertised}
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
	cmd.Flags().IntVar(&port, "port", 9092, "port to listen on (0: a free port, printed)")
	cmd.Flags().StringVar(&host, "host", "127.0.0.1", "address to listen on; 0.0.0.0: every interface, unauthenticated")
	cmd.Flags().StringVar(&advertised, "advertised-host", "", "host name clients are told to connect to (Kafka's advertised.listeners); default: the --host address")
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "a topic to create, NAME:PARTITIONS (repeatable)")
	return cmd
}
