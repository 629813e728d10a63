import { Link } from 'wouter';

export default function PortalNotFoundPage() {
  return (
    <div>
      <h1>Not found</h1>
      <p>
        There is nothing here. <Link href="/">Back to your endpoints</Link>.
      </p>
    </div>
  );
}
