export default function Page() {
  return <h1>TODO messages/message-page</h1>;
}
