package io.hacluster.examples.chat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.RejectedExecutionHandlers;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The chat's HTTP listener: HTTP/1.1 with bounded request lines, headers and bodies (a body over
 * {@value #MAX_BODY_BYTES} bytes is answered 413 by the aggregator), the API on a bounded pool
 * of blocking threads, websockets upgraded from it.
 */
final class ChatHttpServer implements AutoCloseable {

    static final int MAX_BODY_BYTES = 64 * 1024;
    static final int MAX_LINE_BYTES = 4096;
    static final int MAX_HEADER_BYTES = 8192;
    /** Threads for requests that ask the database, and the bound on what may wait for them. */
    static final int API_THREADS = 16;
    static final int MAX_PENDING_PER_THREAD = 256;

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final EventExecutorGroup api;
    private final Channel listener;

    ChatHttpServer(ChatServer server, InetSocketAddress bind, String nodeId) {
        boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("chat-" + nodeId + "-accept", true),
                NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("chat-" + nodeId + "-io", true),
                NioIoHandler.newFactory());
        api = new DefaultEventExecutorGroup(API_THREADS, new DefaultThreadFactory("chat-" + nodeId + "-api", true),
                MAX_PENDING_PER_THREAD, RejectedExecutionHandlers.reject());
        try {
            listener = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    // a websocket client that lets 1 MiB pile up is dropped by the hub (it catches up later)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline()
                                    .addLast("http", new HttpServerCodec(MAX_LINE_BYTES, MAX_HEADER_BYTES, 8192))
                                    .addLast("keep-alive", new HttpServerKeepAliveHandler())
                                    .addLast("aggregate", new HttpObjectAggregator(MAX_BODY_BYTES))
                                    .addLast(api, "api", new HttpApi(server));
                        }
                    })
                    .bind(bind).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Stops accepting; open connections are closed with the event loops. */
    @Override
    public void close() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2_000);
        }
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        api.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        boss.terminationFuture().awaitUninterruptibly(5_000);
        workers.terminationFuture().awaitUninterruptibly(5_000);
        api.terminationFuture().awaitUninterruptibly(5_000);
    }
}
